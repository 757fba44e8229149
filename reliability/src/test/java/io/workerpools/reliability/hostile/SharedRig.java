package io.workerpools.reliability.hostile;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands one {@link Rig} (one agent process) to every hostile test class that asks for it, and
 * closes it when the whole run ends: starting an agent JVM per class would cost seconds each.
 */
final class SharedRig implements ParameterResolver {
  private static final class Holder implements ExtensionContext.Store.CloseableResource {
    final Rig rig;

    Holder() {
      try {
        rig = new Rig();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void close() {
      rig.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == Rig.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    return c.getRoot()
        .getStore(ExtensionContext.Namespace.create(SharedRig.class))
        .getOrComputeIfAbsent(Holder.class, k -> new Holder(), Holder.class)
        .rig;
  }
}
