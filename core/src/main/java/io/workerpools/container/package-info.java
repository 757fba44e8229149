/**
 * Execution containers: a step that names a {@link io.workerpools.container.ContainerSpec} runs
 * inside a container of that image on its worker, through the worker's own {@code docker} or {@code
 * podman} command line. No transport knows about containers: {@link
 * io.workerpools.container.ContainerSteps} turns a container step into a plain script (a small
 * wrapper that runs the container CLI) and runs it through the worker's transport, and reads the
 * worker's engine from its health details ({@link io.workerpools.container.ContainerEngine}). See
 * {@code docs/containers.md}.
 */
package io.workerpools.container;
