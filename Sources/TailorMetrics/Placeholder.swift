// TailorMetrics
