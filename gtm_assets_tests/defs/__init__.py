"""The asset graph, its jobs, sensors and schedules."""
