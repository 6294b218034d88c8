/**
 * Pictures with JFreeChart: the 9-panel layer analysis PNG ({@link io.layerscope.plot.LayerAnalysisChart}
 * from a {@link io.layerscope.plot.LayerPlotData}) and the sweep overview
 * ({@link io.layerscope.plot.OverviewChart} from {@link io.layerscope.plot.LayerSummary} rows, kinds
 * coloured by {@link io.layerscope.plot.KindStyle}, and a row of depth panels from
 * {@link io.layerscope.plot.BlockSummary} rows); heatmaps are reduced by block maximum with DJL
 * beforehand ({@link io.layerscope.plot.BlockMaxReduction}); gallery thumbnails by
 * {@link io.layerscope.plot.Thumbnail}.
 */
package io.layerscope.plot;
