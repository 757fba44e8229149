/**
 * Loading pools and workers from JSON or YAML files ({@link
 * io.workerpools.config.InfrastructureLoader}), with errors that name the field and the line.
 */
package io.workerpools.config;
