package io.layerscope.stats;

import java.io.Serializable;

/**
 * Summary statistics of one quantity of a layer, with PyTorch's defaults, as a Python tool using
 * torch would compute them: {@code std} is the sample standard deviation (divides by n-1; NaN
 * for a single value, as {@code torch.std}), {@code median} is the lower of the two middle values
 * for an even count ({@code torch.median}), {@code p01} and {@code p99} are the 0.01 and 0.99
 * quantiles by linear interpolation ({@code torch.quantile}). Mean and variance are accumulated
 * in double; min, max, median and the values the quantiles interpolate between are exact inputs.
 *
 * <p>Quantile ranks are computed in double: {@code pos = q * (n-1)}, then
 * {@code lerp(sorted[floor(pos)], sorted[ceil(pos)], pos - floor(pos))} with torch's lerp
 * formula. (torch forms {@code pos} in the input's float32; for n near 2^24 that can round
 * {@code pos} to a whole number, a difference smaller than the gap between two neighbouring
 * sorted values.) torch.quantile refuses inputs above 2^24 elements (pytorch/pytorch#64947), so a
 * Python tool gets no p01/p99 for lm_head at all; here they are exact for any size.
 */
public record Summary(long count, double mean, double std, double min, double max, double median,
                      double p01, double p99) implements Serializable {
    private static final long serialVersionUID = 1L;
}
