from .config import ConfigError, ModelConfig, make_config

__all__ = ["LeadershipModel", "ConfigError", "ModelConfig", "make_config"]


def __getattr__(name):
    # The model brings Mesa, numba and pandas (about a second to import), so it loads on first
    # use: commands that need only the config, such as `leadsim --help`, start without it.
    if name == "LeadershipModel":
        from .model import LeadershipModel
        return LeadershipModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
