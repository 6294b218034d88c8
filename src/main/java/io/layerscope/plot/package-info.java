/** Pictures with JFreeChart: the 9-panel layer analysis PNG and the sweep overview. */
package io.layerscope.plot;
