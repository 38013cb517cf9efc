package dev.crucible.spark;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Where a Spark run's time and shuffle go, per phase of the recipe (reading and the steps before the
 * first de-duplication, each de-duplication, each later run of steps, writing): the driver's wall
 * time, the tasks' run time, and the shuffle bytes written and read. Each phase's Spark jobs carry
 * a job group; a listener adds up the tasks of their stages. This is what a user sizes a cluster
 * by (the shuffle volume of MinHash de-duplication per GB of input).
 */
final class PhaseMeter extends SparkListener {
    /** One phase's totals. */
    static final class Phase {
        final String name;
        double wallSeconds;
        long taskMillis, shuffleWritten, shuffleRead;

        Phase(String name) {
            this.name = name;
        }
    }

    private static final java.util.concurrent.atomic.AtomicInteger METERS = new java.util.concurrent.atomic.AtomicInteger();
    /** This meter's job groups (a context may run several recipes; the status tracker remembers their jobs). */
    private final String prefix = "crucible:" + METERS.incrementAndGet() + ":";
    private final JavaSparkContext sc;
    private final Map<String, Phase> phases = new LinkedHashMap<>();
    private final Map<Integer, String> stagePhase = new ConcurrentHashMap<>();
    private final Set<Integer> endedJobs = ConcurrentHashMap.newKeySet();
    private String current;
    private long started;
    private boolean finished;

    PhaseMeter(JavaSparkContext sc) {
        this.sc = sc;
        sc.sc().addSparkListener(this);
    }

    /** Starts a phase: the jobs that run until the next call belong to it. */
    synchronized void phase(String name) { // the listener thread reads the phases
        stop();
        current = name;
        phases.computeIfAbsent(name, Phase::new);
        started = System.nanoTime();
        sc.setJobGroup(prefix + name, name, false);
    }

    private void stop() {
        if (current != null) phases.get(current).wallSeconds += (System.nanoTime() - started) / 1e9;
        current = null;
    }

    /** Ends the last phase and waits (up to 10 s) until the listener has heard of every job's end; the phases in order. */
    List<Phase> finish() {
        if (!finished) {
            finished = true;
            stop();
            sc.clearJobGroup();
            Set<Integer> jobs = new HashSet<>();
            for (String p : phases.keySet()) for (int id : sc.statusTracker().getJobIdsForGroup(prefix + p)) jobs.add(id);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!endedJobs.containsAll(jobs) && System.nanoTime() < deadline) java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            sc.sc().removeSparkListener(this);
        }
        synchronized (this) {
            return new ArrayList<>(phases.values());
        }
    }

    @Override
    public void onJobStart(SparkListenerJobStart e) {
        String group = e.properties() == null ? null : e.properties().getProperty("spark.jobGroup.id");
        if (group == null || !group.startsWith(prefix)) return;
        for (Object id : scala.jdk.javaapi.CollectionConverters.asJava(e.stageIds())) stagePhase.put((Integer) id, group.substring(prefix.length()));
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
        String name = stagePhase.get(e.stageId());
        TaskMetrics m = e.taskMetrics();
        if (name == null || m == null) return;
        Phase p = phases.get(name);
        if (p == null) return;
        p.taskMillis += m.executorRunTime();
        p.shuffleWritten += m.shuffleWriteMetrics().bytesWritten();
        p.shuffleRead += m.shuffleReadMetrics().totalBytesRead();
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd e) {
        endedJobs.add(e.jobId());
    }

    /** A table of the phases, and the shuffle per GB of input. */
    static String table(List<Phase> phases, long inputBytes) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-44s %8s %9s %13s %13s%n", "spark phase", "wall s", "task s", "shuffle w MB", "shuffle r MB"));
        long written = 0;
        for (Phase p : phases) {
            sb.append(String.format(Locale.ROOT, "%-44s %8.1f %9.1f %13.2f %13.2f%n", p.name.length() > 44 ? p.name.substring(0, 43) + "…" : p.name,
                    p.wallSeconds, p.taskMillis / 1e3, p.shuffleWritten / 1e6, p.shuffleRead / 1e6));
            written += p.shuffleWritten;
        }
        if (inputBytes > 0) {
            sb.append(String.format(Locale.ROOT, "shuffle written: %.1f MB, %.2f GB per GB of input text%n", written / 1e6, (double) written / inputBytes));
        }
        return sb.toString();
    }
}
