package io.workerpools.jdbc;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts the throwaway PostgreSQL cluster ({@link PostgresCluster#shared()}) before the first test
 * class that uses it and stops it (deleting its files) when the test run ends. Test methods and
 * constructors may ask for a {@link TestDatabase}: a fresh, empty database for each.
 */
public final class PostgresExtension implements BeforeAllCallback, ParameterResolver {

  @Override
  public void beforeAll(ExtensionContext context) {
    context
        .getRoot()
        .getStore(ExtensionContext.Namespace.create(PostgresExtension.class))
        .getOrComputeIfAbsent("cluster", k -> new Stopper(PostgresCluster.shared()), Stopper.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == TestDatabase.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    PostgresCluster cluster = PostgresCluster.shared();
    String name = cluster.createDatabase();
    return new TestDatabase(cluster, name, cluster.dataSource(name));
  }

  /** Stops the cluster when JUnit closes the root store at the end of the run. */
  private record Stopper(PostgresCluster cluster) implements AutoCloseable {
    @Override
    public void close() {
      TestPools.closeAll();
      cluster.close();
    }
  }
}
