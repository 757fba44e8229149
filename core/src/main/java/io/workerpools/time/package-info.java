/** Injectable time: the system clocks and a manual clock for tests. */
package io.workerpools.time;
