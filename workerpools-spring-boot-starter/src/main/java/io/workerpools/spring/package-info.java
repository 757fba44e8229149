/**
 * Spring Boot auto-configuration for WorkerPools: {@link
 * io.workerpools.spring.WorkerPoolsProperties} ({@code workerpools.*}), the {@link
 * io.workerpools.WorkerPools} bean, health contributors per pool, Micrometer metrics and the
 * Actuator endpoint.
 */
package io.workerpools.spring;
