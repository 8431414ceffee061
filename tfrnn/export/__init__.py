"""SavedModel export for TF Serving: versioned directories written
atomically, string-in/string-out signatures, stock TensorFlow ops only."""

from tfrnn.export.graph_ops import (check_stock_ops, non_stock_ops,
                                    saved_model_ops)
from tfrnn.export.serving import (export_for_serving, versions,
                                  write_models_config)
from tfrnn.export.signatures import serving_module

__all__ = ["check_stock_ops", "export_for_serving", "non_stock_ops",
           "saved_model_ops", "serving_module", "versions",
           "write_models_config"]
