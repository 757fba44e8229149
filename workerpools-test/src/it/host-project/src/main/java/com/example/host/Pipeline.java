package com.example.host;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;

/** The host's own code: it hands a deployment script to whatever transport it is given. */
public final class Pipeline {
  private final WorkerTransport transport;

  public Pipeline(WorkerTransport transport) {
    this.transport = transport;
  }

  /** Starts the deployment of {@code release} on {@code worker}. */
  public ScriptExecution deploy(Worker worker, String release, LogSink sink) {
    ScriptRequest script =
        ScriptRequest.builder(ScriptSyntax.BASH, "echo deploying \"$1\"").argument(release).build();
    return transport.start(worker, script, sink);
  }
}
