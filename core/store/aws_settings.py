"""Where an S3 root's endpoint, region and keys come from: the standard AWS settings.

In the order the AWS tools use: the environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, ``AWS_REGION``), then the
profile named by ``AWS_PROFILE`` (or ``AWS_DEFAULT_PROFILE``, else ``default``) in the shared
files (``AWS_SHARED_CREDENTIALS_FILE``, default ``~/.aws/credentials``; ``AWS_CONFIG_FILE``,
default ``~/.aws/config``, where a profile's section is ``[profile NAME]``). A profile with
static keys is read here, without boto3. One that gets its keys another way (SSO, a role,
``credential_process``, web identity) needs boto3's credential chain: when boto3 is not
installed, that is said, not guessed. With no keys anywhere, obstore's own chain (instance
metadata, container credentials) is left to find them.

Nothing read here is written anywhere or shown: errors name the profile and the file, never a
value.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

# A profile that names one of these gets its keys from something boto3 knows how to ask.
INDIRECT_KEYS = (
    "credential_process",
    "sso_session",
    "sso_start_url",
    "role_arn",
    "web_identity_token_file",
    "credential_source",
)


class ProfileError(RuntimeError):
    """A named profile cannot be used (missing, unreadable, or needs boto3)."""


@dataclass(frozen=True)
class AwsSettings:
    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    token: str | None = None
    profile: str | None = None  # the profile whose keys these are, or None (environment)
    indirect: bool = False  # the profile's keys come from boto3's chain

    def __repr__(self) -> str:  # never the keys
        return f"AwsSettings(endpoint={self.endpoint!r}, region={self.region!r}, profile={self.profile!r})"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _read(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(interpolation=None, strict=False)
    try:
        if path.is_file():
            with path.open(encoding="utf-8", errors="replace") as file:
                parser.read_file(file)
    except (OSError, configparser.Error) as exc:
        raise ProfileError(
            f"{path}: cannot be read as an AWS settings file ({type(exc).__name__})"
        ) from None
    return parser


def _section(parser: configparser.RawConfigParser, name: str, config_file: bool) -> dict[str, str]:
    titles = [f"profile {name}", name] if config_file and name != "default" else [name]
    for title in titles:
        if parser.has_section(title):
            return {key.lower(): value.strip() for key, value in parser.items(title)}
    return {}


def resolve() -> AwsSettings:
    """The settings from the environment and the shared files, or :class:`ProfileError`."""
    endpoint = _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")
    region = _env("AWS_REGION", "AWS_DEFAULT_REGION")
    access, secret = _env("AWS_ACCESS_KEY_ID"), _env("AWS_SECRET_ACCESS_KEY")
    named = _env("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    if access and secret and not named:
        return AwsSettings(endpoint, region, access, secret, _env("AWS_SESSION_TOKEN"))
    name = named or "default"
    home = Path.home()
    credentials_path = Path(_env("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    config_path = Path(_env("AWS_CONFIG_FILE") or home / ".aws" / "config")
    credentials = _section(_read(credentials_path), name, False)
    config = _section(_read(config_path), name, True)
    if named and not credentials and not config:
        raise ProfileError(
            f"AWS profile {name!r} is in neither {credentials_path} nor {config_path}"
        )
    merged = {**config, **credentials}  # the credentials file wins, as for the AWS CLI
    endpoint = endpoint or merged.get("endpoint_url") or None
    region = region or merged.get("region") or None
    if access and secret:  # the environment's keys win over a profile's (AWS's order)
        return AwsSettings(endpoint, region, access, secret, _env("AWS_SESSION_TOKEN"))
    if merged.get("aws_access_key_id") and merged.get("aws_secret_access_key"):
        return AwsSettings(
            endpoint,
            region,
            merged["aws_access_key_id"],
            merged["aws_secret_access_key"],
            merged.get("aws_session_token") or None,
            profile=name,
        )
    if any(merged.get(key) for key in INDIRECT_KEYS):
        return AwsSettings(endpoint, region, profile=name, indirect=True)
    if named:
        raise ProfileError(
            f"AWS profile {name!r} holds no keys (aws_access_key_id and aws_secret_access_key)"
        )
    return AwsSettings(endpoint, region)
