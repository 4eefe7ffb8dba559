"""From features to tensors: splits, normalisation statistics and datasets."""
