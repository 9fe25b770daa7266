"""The behave side of the kit: hooks, the per-run session and the glue the step library uses."""
