from django.db import models


class Algorithm(models.TextChoices):
    AUTO = "auto", "Best of both by cross-validated AUC"
    LOGISTIC = "logistic", "Regularised logistic regression"
    GRADIENT_BOOSTING = "gradient_boosting", "Gradient boosting"


class ThresholdScore(models.TextChoices):
    TOTAL = "total", "Rule-based total score"
    PREDICTIVE = "predictive", "Predictive score (probability × 100)"
