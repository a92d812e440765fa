"""Reference scores of classical methods on each offline dataset's test split.

Every method is fitted on the `train` split only (never on val or test) and scored on
`test`, so a zoo model trained on the same split can be compared directly.

Example:
    >>> from zoo import data
    >>> scores = data.baselines("wine")
    >>> sorted(scores)
    ['logistic_regression_accuracy', 'svc_accuracy']
"""

from __future__ import annotations

import numpy as np

from zoo.data import catalogue

SEASON = 24  # hours: the seasonal-naive forecast repeats the value one day earlier


def _flat(x):
    return x.reshape(len(x), -1)


def _accuracies(parts, models):
    (x, y), (x_test, y_test) = parts["train"], parts["test"]
    return {f"{name}_accuracy": float(np.mean(model.fit(_flat(x), y).predict(_flat(x_test))
                                              == y_test))
            for name, model in models.items()}


def _svc_digits(parts):
    from sklearn.svm import SVC

    return _accuracies(parts, {"svc": SVC(gamma=0.001)})


def _tabular_classifiers(parts):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return _accuracies(parts, {
        "logistic_regression": make_pipeline(StandardScaler(),
                                             LogisticRegression(max_iter=10_000)),
        "svc": make_pipeline(StandardScaler(), SVC()),
    })


def _regressors(parts):
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    (x, y), (x_test, y_test) = parts["train"], parts["test"]
    scores = {}
    for name, model in {"linear_regression": LinearRegression(),
                        "ridge": make_pipeline(StandardScaler(), Ridge())}.items():
        error = model.fit(x, y).predict(x_test) - y_test
        scores[f"{name}_mae"] = float(np.mean(np.abs(error)))
        scores[f"{name}_rmse"] = float(np.sqrt(np.mean(error ** 2)))
    return scores


def _naive_forecasts(parts):
    """Column 0 of the inputs is the temperature; targets are (n, horizon, 1)."""
    x, y = parts["test"]
    horizon = y.shape[1]
    persistence = np.repeat(x[:, -1:, 0], horizon, axis=1)
    last_day = x[:, -SEASON:, 0]
    seasonal = np.tile(last_day, (1, -(-horizon // SEASON)))[:, :horizon]
    return {"persistence_mae": float(np.mean(np.abs(persistence - y[..., 0]))),
            "seasonal_naive_mae": float(np.mean(np.abs(seasonal - y[..., 0])))}


_BASELINES = {
    "digits": _svc_digits,
    "digits_rows": _svc_digits,
    "breast_cancer": _tabular_classifiers,
    "wine": _tabular_classifiers,
    "diabetes": _regressors,
    "sf_temps": _naive_forecasts,
}


def has_baselines(name: str) -> bool:
    """Whether `baselines(name)` is defined (the offline datasets)."""
    return name in _BASELINES


def baselines(name: str, scheme: str | None = None) -> dict[str, float]:
    """Named test scores of classical baselines on dataset `name` (default options).

    digits, digits_rows: `svc_accuracy` (scikit-learn `SVC(gamma=0.001)` on the
    flattened pixels). breast_cancer, wine: `logistic_regression_accuracy` and
    `svc_accuracy` (each after a StandardScaler). diabetes: `linear_regression_*` and
    `ridge_*` (after a StandardScaler) `mae` and `rmse`. sf_temps: `persistence_mae`
    (the last observed hour repeated) and `seasonal_naive_mae` (each hour's value one
    day earlier), averaged over the horizon.

    Example:
        >>> from zoo import data
        >>> round(data.baselines("digits", scheme="half")["svc_accuracy"], 3)
        0.969
    """
    catalogue.info(name)  # unknown names: the catalogue's error
    if name not in _BASELINES:
        raise catalogue.unknown("dataset with baselines", name, _BASELINES)
    return _BASELINES[name](catalogue.load_splits(name, scheme))
