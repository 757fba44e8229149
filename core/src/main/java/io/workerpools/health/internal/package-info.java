/**
 * Implementation details of health monitoring. Not an API: may change in any release without
 * notice.
 */
package io.workerpools.health.internal;
