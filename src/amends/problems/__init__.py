"""Problems: root causes linking many cases, their corrective actions, and proof of the fix."""
