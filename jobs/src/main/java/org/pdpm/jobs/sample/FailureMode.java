package org.pdpm.jobs.sample;

/** The failure a run injects midway, once a checkpoint has completed. */
public enum FailureMode {
    /** None: the run measures the backend undisturbed. */
    NONE,
    /** The job's generator throws once; Flink restarts the job from the latest checkpoint. */
    EXCEPTION,
    /** A TaskManager running the job is terminated and a new one started in its place. */
    KILL_TASK_MANAGER
}
