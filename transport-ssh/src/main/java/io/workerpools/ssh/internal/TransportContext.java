package io.workerpools.ssh.internal;

import io.workerpools.ssh.SshCredentialProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.sshd.client.SshClient;

/**
 * What every connection of one transport shares.
 *
 * @param client the one MINA client
 * @param executor runs blocking work (connects, stdin writes) and log delivery, never on MINA
 *     threads
 * @param scheduler timeouts
 * @param credentials the host's credential provider
 * @param connectTimeout bounds connect plus authentication
 * @param killGrace how long a cancelled step's channel may stay open after its process group was
 *     killed before it is closed by force
 * @param maxChannels the default per-worker limit on concurrent channels (one kept spare)
 * @param alwaysDirectory give every step a private temporary directory, even when the lean path (no
 *     files, one remote process) would do
 * @param systemKnownHosts known-hosts files read after each endpoint's own, never written
 */
public record TransportContext(
    SshClient client,
    ExecutorService executor,
    ScheduledExecutorService scheduler,
    SshCredentialProvider credentials,
    Duration connectTimeout,
    Duration killGrace,
    int maxChannels,
    boolean alwaysDirectory,
    List<Path> systemKnownHosts) {}
