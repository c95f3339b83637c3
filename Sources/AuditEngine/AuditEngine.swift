/// AuditEngine turns CLIP predictions over a labelled manifest into fairness metrics and reports.
public enum AuditEngineInfo {}
