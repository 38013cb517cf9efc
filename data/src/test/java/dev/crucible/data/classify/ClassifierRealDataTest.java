package dev.crucible.data.classify;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A real task from the shared data: WikiText-2 paragraphs (positive) against paragraphs whose words
 * were shuffled (negative; other paragraphs, so no text is on both sides). The two classes have the
 * same word statistics, so only word order tells them apart: a unigram model must be near chance
 * and a bigram model near perfect (the reference fastText, same options: 98.1% held-out accuracy). Skipped
 * without -Dcrucible.data.
 */
class ClassifierRealDataTest {
    @Test
    void wordOrderIsLearnedFromBigramsAndOnlyFromThem() throws IOException {
        String data = System.getProperty("crucible.data", "");
        Path valid = Path.of(data, "wikitext2_pytorch_examples", "valid.txt");
        Assumptions.assumeTrue(!data.isEmpty() && Files.exists(valid), "no shared data (-Dcrucible.data): WikiText-2 is needed");
        List<String> paragraphs = new ArrayList<>();
        for (String l : Files.readAllLines(valid)) if (l.strip().split(" +").length >= 30 && !l.strip().startsWith("=")) paragraphs.add(l.strip());
        List<String> pos = new ArrayList<>(), neg = new ArrayList<>();
        Random r = new Random(1);
        for (int i = 0; i < paragraphs.size(); i++) {
            if (i % 2 == 0) {
                pos.add(paragraphs.get(i));
            } else {
                List<String> w = new ArrayList<>(List.of(paragraphs.get(i).split(" +")));
                Collections.shuffle(w, r);
                neg.add(String.join(" ", w));
            }
        }
        var bigrams = ClassifierTraining.run(pos, neg, new ClassifierText.Plain(), new FastTextTrainer.Options(32, 0.5, 25, 1, 2, 200_000, 0, 0, false, 1),
                0.2, "pos", "neg");
        var unigrams = ClassifierTraining.run(pos, neg, new ClassifierText.Plain(), new FastTextTrainer.Options(32, 0.5, 25, 1, 1, 0, 0, 0, false, 1),
                0.2, "pos", "neg");
        System.out.println("WikiText-2 valid vs shuffled: word bigrams " + bigrams.heldOut() + "; unigrams " + unigrams.heldOut());
        assertTrue(bigrams.heldOut().auc() > 0.95, bigrams.heldOut().toString());
        assertTrue(Math.abs(unigrams.heldOut().auc() - 0.5) < 0.15, unigrams.heldOut().toString());
    }
}
