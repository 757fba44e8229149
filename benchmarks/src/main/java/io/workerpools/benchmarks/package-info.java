/**
 * JMH benchmarks and comparison harnesses. Build with {@code mvn -DskipTests package} and run
 * {@code java -jar benchmarks/target/benchmarks.jar NAME}. Each benchmark measures a baseline in
 * the same run (a bare {@code ProcessBuilder}, OpenSSH with ControlMaster, ...) so that results are
 * ratios.
 */
package io.workerpools.benchmarks;
