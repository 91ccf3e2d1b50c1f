"""The demo company: "Ledgerline", a finance-automation SaaS, simulated for a year and seeded into the database.

- `simulator.simulate(size=, seed=)` / `simulator.generate(...)`: pure, seeded, vectorised, chunked (no ORM).
- `truth.GroundTruth`: the planted causal facts (campaign lifts, capture/null/strong campaigns, loss drivers,
  feedback theme labels, sellers' SLA and talk-track habits, recycle re-engagement, realised rates); after seeding
  read it with `selectors.demo_truth_get()`.
- `services.demo_seed(size=, seed=)`: users (one login per role, password "demo"), a v2 playbook signed off by
  marketing and sales on a simulated day, then bulk inserts of the company in one transaction (`rows`: CRM,
  touchpoints, stage history, the handoff with SLA clocks and decisions, notifications, feedback), then through the
  product's services marketing's monthly SLA verdicts, campaign briefs with sales' sign-off and reps' outreach
  (`services_history`).
- CLI: `smarketing seed --size small|medium|large --seed N`, `smarketing demo`.
"""
