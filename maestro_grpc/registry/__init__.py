"""The Registry context: projects, teams, outcomes and the artifact library."""
