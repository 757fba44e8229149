/**
 * Implementation details of the JDBC store: JSON encoding of workers, health and change events, and
 * in-order event delivery. Not an API: anything here may change without notice.
 */
package io.workerpools.jdbc.internal;
