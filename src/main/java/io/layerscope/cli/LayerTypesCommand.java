package io.layerscope.cli;

import io.layerscope.model.Checkpoint;
import io.layerscope.model.ModuleTree;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code layer-types}: every module type of the model with counts and an example path. */
@Command(name = "layer-types", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"List every module type of the model as Hugging Face's named_modules() shows it for"
                + " LlamaForCausalLM, with counts and an example path.",
                "Reads only config.json and the safetensors headers."})
public final class LayerTypesCommand implements Callable<Integer> {
    @Mixin
    private ModelOptions options;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        Checkpoint ckpt = options.open(spec).checkpoint();
        spec.commandLine().getOut().print(LayerListing.layerTypes(options.model(), ModuleTree.of(ckpt.config())));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
