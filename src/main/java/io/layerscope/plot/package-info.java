/**
 * Pictures with JFreeChart: the 9-panel layer analysis PNG ({@link io.layerscope.plot.LayerAnalysisChart}
 * from a {@link io.layerscope.plot.LayerPlotData}) and the sweep overview; heatmaps are reduced by
 * block maximum with DJL beforehand ({@link io.layerscope.plot.BlockMaxReduction}).
 */
package io.layerscope.plot;
