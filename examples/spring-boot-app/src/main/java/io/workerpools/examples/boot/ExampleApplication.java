package io.workerpools.examples.boot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot application with the WorkerPools starter: {@code application.yml} configures it,
 * {@link Deployer} runs a step when the application starts. With nothing else configured the step
 * runs on the built-in worker; put pools and workers in {@code workerpools.infrastructure-file} and
 * the same code runs it on them.
 */
@SpringBootApplication
public class ExampleApplication {
  public static void main(String[] args) {
    SpringApplication.run(ExampleApplication.class, args);
  }
}
