package dev.crucible.train.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which replicas a process belongs to, from its environment (the MPI runs themselves: MpiTrainTest in the cli module). */
class ReplicasTest {

    @Test
    void aProcessNotStartedByMpirunOrAloneInItsJobIsASingleReplica() {
        assertSame(Replicas.single(), Replicas.fromEnvironment(Map.of()));
        assertSame(Replicas.single(), Replicas.fromEnvironment(Map.of("OMPI_COMM_WORLD_SIZE", "1", "OMPI_COMM_WORLD_RANK", "0")));
        assertSame(Replicas.single(), Replicas.fromEnvironment(Map.of("PMI_SIZE", "1")));
        Replicas one = Replicas.single();
        float[] a = {1, 2};
        one.sum(a);
        one.broadcast(a);
        assertEquals(2, a[1]);
        assertEquals(7, one.broadcast(7));
        assertTrue(one.writes());
    }

    @Test
    void underMpirunWithoutAnMpiLibraryTheMessageSaysWhatWasTriedAndWhatToInstall() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Replicas.fromEnvironment(
                Map.of("OMPI_COMM_WORLD_SIZE", "2", "CRUCIBLE_MPI_LIBRARY", "/nonexistent/libmpi.so.40")));
        assertTrue(e.getMessage().contains("OMPI_COMM_WORLD_SIZE=2") && e.getMessage().contains("/nonexistent/libmpi.so.40")
                && e.getMessage().contains("apt-get install openmpi-bin"), e.getMessage());
        IllegalStateException bad = assertThrows(IllegalStateException.class, () -> Replicas.fromEnvironment(Map.of("PMI_SIZE", "two")));
        assertTrue(bad.getMessage().contains("PMI_SIZE=two"), bad.getMessage());
    }
}
