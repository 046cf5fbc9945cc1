"""The seeds' ``taxiviz.visualize``: millions of pickup locations as one PNG, with datashader."""
from io import BytesIO

CANVAS = {
    "plot_width": 1000,
    "plot_height": 1000,
    "x_range": (-74.03, -73.92),
    "y_range": (40.70, 40.78),
}


def visualize(lat, lon, canvas=None):
    """PNG bytes of the points (lon, lat), log-shaded in greys on white, as in the book."""
    import datashader as ds
    from datashader import transfer_functions as tf
    from datashader.colors import Greys9
    from pandas import DataFrame

    cvs = ds.Canvas(**(canvas or CANVAS))
    agg = cvs.points(DataFrame({"x": lon, "y": lat}), "x", "y")
    img = tf.shade(agg, cmap=Greys9, how="log")
    img = tf.set_background(img, "white")
    buf = BytesIO()
    img.to_pil().save(buf, format="png")
    return buf.getvalue()
