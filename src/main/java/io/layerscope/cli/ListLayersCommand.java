package io.layerscope.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code list-layers}: the prunable Linear layers grouped by kind, with example single-layer commands. */
@Command(name = "list-layers", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"List the prunable Linear layers of the model grouped by kind (each kind's in named_modules()"
                + " order), with example commands for the single-layer job.",
                "Reads only config.json and the safetensors headers."})
public final class ListLayersCommand implements Callable<Integer> {
    @Mixin
    private ModelOptions options;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        ModelOptions.OpenedModel m = options.open(spec);
        spec.commandLine().getOut().print(LayerListing.prunableLayers(options.model(),
                options.repeatedArgs(m.resolved()), m.checkpoint().prunableLayers()));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
