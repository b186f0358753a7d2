"""The Prediction domain, plain Python: training, predicting, explaining, staffing, experiments."""
