/**
 * SSH workers through the Apache MINA SSHD client: {@link io.workerpools.ssh.SshTransport}, its
 * endpoint ({@link io.workerpools.ssh.SshEndpoint}) and the host's credential SPI ({@link
 * io.workerpools.ssh.SshCredentialProvider}).
 */
package io.workerpools.ssh;
