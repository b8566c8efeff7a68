"""Build the adapters a job needs from the config: the only place that knows concrete classes."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.config import Config

if TYPE_CHECKING:
    from orchestrator.adapters.github_http import RetryPolicy
    from orchestrator.init.services import Services


@dataclass(frozen=True)
class Deps:
    """What a job's `run` receives besides config and the time; adapters join as they land."""

    config: Config
    log: logging.Logger


def real_deps(config: Config, log: logging.Logger) -> Deps:
    """Return the production dependencies for one run."""
    return Deps(config=config, log=log)


# -- agentos init: the services its steps use --------------------------------------------------------

def init_services(*, throttle: bool = True, retry: RetryPolicy | None = None) -> Services:
    """Return the real services `agentos init` uses; `throttle` keeps GitHub's advised gaps between writes."""
    from orchestrator.adapters.anthropic_drafts import AnthropicDrafter
    from orchestrator.adapters.github_setup import GitHubSetupClient
    from orchestrator.adapters.telegram_pairing import BotPairing
    from orchestrator.config.model import GitHubConfig, Secret
    from orchestrator.init.credentials import graphql_url
    from orchestrator.init.services import BoardAdmin, GitHubSetup, Services

    def config(api_url: str, token: str) -> GitHubConfig:
        return GitHubConfig(token=Secret("GITHUB_TOKEN", token), api_url=api_url.rstrip("/"),
                            graphql_url=graphql_url(api_url), trusted_users=())

    def github(api_url: str, token: str) -> GitHubSetup:
        return GitHubSetupClient(config(api_url, token), throttle=throttle, retry=retry)

    def board(endpoint: str, token: str) -> BoardAdmin:
        raise NotImplementedError("the Projects board adapter has not landed yet")

    return Services(github=github, board=board, telegram=BotPairing(), drafter=AnthropicDrafter())
