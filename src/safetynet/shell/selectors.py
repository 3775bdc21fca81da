"""The shell reads through the other apps' selectors (orgs for counts, core for the audit trail)."""
