"""The playbook page shows its terms in words, never raw keys (the YAML view keeps them for power users)."""

from smarketing.web.templatetags.playbook_terms import criterion_field, criterion_value


def test_criteria_read_in_words():
    assert criterion_field("contact.buying_role") == "Contact buying role"
    assert criterion_value("decision_maker") == "Decision maker"
    assert criterion_value(["Software", "Financial services"]) == "Software, Financial services"
    assert (criterion_value(200), criterion_value(2.5), criterion_value("@gmail.")) == ("200", "2.5", "@gmail.")


def test_the_playbook_page_shows_no_raw_keys(active_playbook, login):
    html = login("viewer").get("/playbook/").content.decode()
    assert "Contact buying role == Decision maker" in html
    assert "buying_role" not in html and "decision_maker" not in html
