/** An InfrastructureStore on plain JDBC, proven on PostgreSQL. */
package io.workerpools.jdbc;
