/**
 * The model: pools, workers, endpoints, health, step requirements, and the validated {@link
 * io.workerpools.model.Infrastructure} they form. All immutable values.
 */
package io.workerpools.model;
