/**
 * How container steps are wrapped, watched and cleaned up. Not for users: may change at any time.
 */
package io.workerpools.container.internal;
