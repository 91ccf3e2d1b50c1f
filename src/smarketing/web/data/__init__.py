"""Read-only helpers the pages need that no domain app offers (yet); each says what will replace it."""
