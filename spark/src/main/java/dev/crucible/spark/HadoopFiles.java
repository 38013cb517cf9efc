package dev.crucible.spark;

import dev.crucible.data.Documents;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Inputs at a Hadoop file-system address (hdfs://, s3a://, gs://, abfs://, file:...), which Spark's
 * executors reach where a plain path would not: listed as the local reader lists a directory
 * (recursively, sorted by address, names starting with '_' or '.' left out), and read by copying
 * each file to the executor's local disk and reading it there under its own address, so that
 * Parquet and zip files (which need random access) read as they do locally.
 */
final class HadoopFiles {
    private HadoopFiles() {}

    /** An output location as a Hadoop path: an address as it is, a plain path as the local file it names (not the default file system). */
    static org.apache.hadoop.fs.Path qualify(String location) {
        return dev.crucible.data.pipeline.Recipe.isAddress(location) ? new org.apache.hadoop.fs.Path(location)
                : new org.apache.hadoop.fs.Path("file", null, Path.of(location).toAbsolutePath().normalize().toString()); // toUri() ends an existing directory with '/'
    }

    /** The file system of p, writing no checksum files beside the data (Hadoop's local file system would add .crc files). */
    static FileSystem fileSystem(org.apache.hadoop.fs.Path p, Configuration conf) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        fs.setWriteChecksum(false);
        return fs;
    }

    /** The Hadoop configuration's entries, to rebuild it on the executors (Configuration is not serializable). */
    static HashMap<String, String> settings(Configuration conf) {
        HashMap<String, String> m = new HashMap<>();
        for (Map.Entry<String, String> e : conf) m.put(e.getKey(), e.getValue());
        return m;
    }

    static Configuration configuration(Map<String, String> settings) {
        Configuration c = new Configuration(false);
        settings.forEach(c::set);
        return c;
    }

    /** The files under address, in the order the local reader would read them. */
    static List<String> list(String address, Configuration conf) throws IOException {
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(address);
        FileSystem fs = root.getFileSystem(conf);
        FileStatus status;
        try {
            status = fs.getFileStatus(root);
        } catch (java.io.FileNotFoundException e) {
            throw new IOException(address + ": no such file or directory");
        }
        if (!status.isDirectory()) return List.of(status.getPath().toString());
        String prefix = status.getPath().toString();
        List<String> files = new ArrayList<>();
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            String f = it.next().getPath().toString();
            boolean hidden = false;
            for (String part : f.substring(prefix.length()).split("/")) hidden |= part.startsWith("_") || part.startsWith(".");
            if (!hidden) files.add(f);
        }
        files.sort(null);
        return files;
    }

    /** Reads the file at address through a local copy, its documents named by the address. */
    static void read(String address, Configuration conf, Documents.RecordSink records, Documents.Malformed malformed, String textField)
            throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(address);
        Path dir = Files.createTempDirectory("crucible-input-");
        Path local = dir.resolve(p.getName()); // the extension decides the format
        try {
            try (InputStream in = p.getFileSystem(conf).open(p)) {
                Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
            }
            Documents.readFile(local, address, records, malformed, textField);
        } finally {
            Files.deleteIfExists(local);
            Files.deleteIfExists(dir);
        }
    }
}
