/** SSH workers through the Apache MINA SSHD client. */
package io.workerpools.ssh;
