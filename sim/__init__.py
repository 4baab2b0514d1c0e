from .model import LeadershipModel
from .config import ConfigError, ModelConfig, make_config

__all__ = ["LeadershipModel", "ConfigError", "ModelConfig", "make_config"]
