"""`NativePaths`: what routes a zoo model's `__call__`, `predict`, `evaluate` and `fit`
to the zoo's torch path (zoo/backend/fast_path.py) or to Keras. Shared by `ZooModel`
and `GAN`."""

from zoo.backend import fast_path


class NativePaths:
    """Mixin for a `keras.Model`: on torch, calls on arrays take the zoo's path when it
    gives Keras' result; `*_path` says which ran (and why Keras);
    `native_torch_loop = False` turns it off."""

    native_torch_loop = True
    fit_path = evaluate_path = predict_path = None

    def __call__(self, *args, **kwargs):
        """Keras' `__call__`; on torch an eager top-level call runs the zoo's graph
        (`zoo/backend/torch_call.py`), which returns the same outputs."""
        out = fast_path.call(self, args, kwargs)
        return out if out is not None else super().__call__(*args, **kwargs)

    def native_call_parts(self):
        """(functional network, post-processing or None) that compute this model's
        call: what the zoo's torch path runs for `model(...)` and `predict`."""
        return self, None

    def _route(self, what, args, kwargs, x, y=None):
        """The zoo's result for `what` ("fit", "evaluate", "predict"), or None (Keras)."""
        if args:  # positional arguments after the data: Keras' own signature
            self.__dict__[f"{what}_path"] = f"{fast_path.KERAS} (positional arguments)"
            return None
        if what == "predict":
            return fast_path.predict(self, x, kwargs)
        return getattr(fast_path, what)(self, x, y, kwargs)
