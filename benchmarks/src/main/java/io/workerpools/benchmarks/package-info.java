/** JMH benchmarks and comparison harnesses. */
package io.workerpools.benchmarks;
