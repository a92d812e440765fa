"""`ConstructorConfig`: a model's config is exactly its constructor arguments."""


class ConstructorConfig:
    """Mixin for keras.Model subclasses: `get_config()` returns the constructor arguments
    stored in `self._zoo_config` (plus name and trainable); `from_config` calls the
    constructor with them. Every zoo model uses it, so `.keras` files hold plain JSON
    arguments and nothing else."""

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._zoo_config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        trainable = config.pop("trainable", True)
        model = cls(**config)
        model.trainable = trainable
        return model
