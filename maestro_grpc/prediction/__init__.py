"""The Prediction context: meta-model, predictions, team recommendations, experiments."""
