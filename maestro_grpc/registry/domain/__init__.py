"""The Registry's domain: projects, teams, artifacts, content and their rules, in plain Python."""
