/** Runnable examples and the README demo. */
package io.workerpools.examples;
