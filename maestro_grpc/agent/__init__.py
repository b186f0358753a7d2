"""The CI agent: collectors (git, CI, JUnit, deploys, incidents, MLflow) and a lossless streamer."""
