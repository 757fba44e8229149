/** Implementation of the SSH transport; not for use outside it. */
package io.workerpools.ssh.internal;
